/** One captured frame, as every source (pcap, pcapng, live) delivers it. */
export interface Frame {
  /** 1-based position in the input. */
  number: number;
  /** LINKTYPE_* value of the interface the frame was captured on. */
  linkType: number;
  /** Whole seconds since the Unix epoch. */
  tsSec: number;
  /**
   * Nanoseconds within the second: normally 0..999,999,999; a damaged file's out-of-range value is
   * passed through unchanged (tcpdump prints such stamps as invalid).
   */
  tsNsec: number;
  /** Bytes captured (data.length). */
  capLen: number;
  /** Bytes on the wire; equal to capLen when the source cannot know (live capture through cap). */
  origLen: number;
  /** The captured bytes. May alias a reused buffer: valid until the source yields the next frame. */
  data: Uint8Array;
  /** pcapng interface id (0 for pcap and live). */
  ifIndex: number;
}
