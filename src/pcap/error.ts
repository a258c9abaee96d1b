/** The one error type for capture files: unreadable, not a capture, damaged, or unwritable. */
export class CaptureFileError extends Error {
  constructor(
    message: string,
    /** The path as given ("-" for standard input/output). */
    readonly file: string,
    /** Byte offset in the file where the problem is, or -1 when it is not about a place in the file. */
    readonly offset: number,
    /** The errno code (ENOENT, EPIPE, ...) when a system call failed. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CaptureFileError';
  }
}
