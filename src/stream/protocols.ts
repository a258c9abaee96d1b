/**
 * Every application protocol over TCP streams: importing this module registers them all (each
 * module calls registerAppProtocol at import), in this order of preference for sniffing.
 */
import './dns.js';
