/**
 * Every application protocol over TCP streams: importing this module registers them all, in this
 * order of preference for sniffing (registerAppProtocol keeps the first registration of each).
 */
import { registerAppProtocol } from './registry.js';
import './dns.js';
import '../tls/stream.js';
import { httpProtocol } from '../http/stream.js';

registerAppProtocol(httpProtocol);
