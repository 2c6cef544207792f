/**
 * Contents of the files tsbox provides in every container's /etc, bind-mounted over
 * the image's own so the image is never modified. Pure.
 */

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

export function hostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    `127.0.1.1\t${hostname}`,
    '',
  ].join('\n');
}

/**
 * The host's resolver configuration minus loopback nameservers: a resolver on the
 * host's 127.0.0.x is not reachable from the container's own network namespace.
 */
export function resolvConfFile(hostResolvConf: string | null): string {
  const lines = (hostResolvConf ?? '').split('\n');
  const kept = lines.filter((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) return true;
    const addr = m[1]!;
    return !(addr.startsWith('127.') || addr === '::1');
  });
  const text = kept.join('\n').trim();
  return text ? `${text}\n` : '';
}
