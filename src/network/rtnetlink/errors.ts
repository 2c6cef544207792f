/** A failed rtnetlink request as one line: what it tried, the errno, the kernel's own words. */
import { TsboxError } from '../../errors.js';
import { errnoMeaning, errnoName } from '../../sys/errno.js';
import type { NlError } from './parse.js';

export class NetlinkError extends TsboxError {
  readonly errno: number;
  readonly code: string;
  readonly kernelMessage: string | undefined;

  constructor(what: string, err: NlError) {
    const code = errnoName(err.errno);
    const said = err.message ? `: kernel says "${err.message}"` : '';
    super(`${what}: ${code} (${errnoMeaning(err.errno)})${said}`);
    this.errno = err.errno;
    this.code = code;
    this.kernelMessage = err.message;
  }
}
