/** Importing this module registers every dissector (each file binds itself). */
import './ethernet.js';
import './ipv4.js';
import './icmp.js';
import './udp.js';
import './tcp.js';
import './llc.js';
import './dot1q.js';
import './arp.js';
import './sll.js';
import './sll2.js';
import './null.js';
import './ipv6.js';
import './ah.js';
import './esp.js';
import './mobility.js';
// raw.js also binds LINKTYPE_IPV4/IPV6 (228/229): tcpdump dispatches those on the version nibble too.
import './raw.js';
import './icmpv6.js';
import './dns.js';
import './http.js';
import './tls.js';
import './geneve.js';
