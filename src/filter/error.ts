/** A filter expression that libpcap would refuse; the message is the one line to print. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/** A valid pcap-filter expression that wirescope's filter compiler does not implement. */
export class UnsupportedFilterError extends FilterError {}

/** The refusal for pcap-filter primitives that wirescope's filter compiler does not implement. */
export function unsupported(what: string): FilterError {
  return new UnsupportedFilterError(`'${what}' filters are not supported by wirescope (see the filter README)`);
}
