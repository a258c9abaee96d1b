/** Importing this module registers every dissector (each file binds itself). */
import './ethernet.js';
import './ipv4.js';
import './udp.js';
import './tcp.js';
import './llc.js';
import './dot1q.js';
import './arp.js';
import './sll.js';
import './sll2.js';
import './null.js';
import './ipv6.js';
// Last: raw.js takes LINKTYPE_IPV4/IPV6 (228/229) for tcpdump's version-nibble dispatch.
import './raw.js';
import './icmpv6.js';
