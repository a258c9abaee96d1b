/** Importing this module registers every dissector (each file binds itself). */
import './ethernet.js';
import './ipv4.js';
import './udp.js';
import './tcp.js';
