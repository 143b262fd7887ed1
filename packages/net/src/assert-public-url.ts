// The outbound URL rule: allowed protocol, and every address the host resolves to is public (unless
// allowPrivate). The same check runs again inside the connection's DNS lookup (safeLookup), so the
// address connected to is the address checked: a DNS answer that changes between check and connect
// (rebinding) cannot slip through.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { blockedReason } from './address-rules.ts';
import { HostLookupError, UrlNotAllowedError } from './errors.ts';

/** dns.lookup with {all: true}; injectable for tests. */
export type ResolveAll = (host: string) => Promise<LookupAddress[]>;

export const resolveAll: ResolveAll = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

export interface UrlRuleOptions {
  /** Skip the address rule (tests, closed networks): ALLOW_PRIVATE_URLS. */
  allowPrivate?: boolean;
  /** Allowed protocols, with the colon (default ['https:']). */
  protocols?: readonly string[];
  resolve?: ResolveAll;
}

/** URL.hostname keeps IPv6 brackets; DNS and the rules want them off. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Resolves host and returns its addresses, refusing any that is not public. */
export async function checkedAddresses(host: string, href: string, opts: UrlRuleOptions): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (opts.resolve ?? resolveAll)(host);
    } catch (err) {
      throw new HostLookupError(host, { cause: err });
    }
    if (addresses.length === 0) throw new HostLookupError(host);
  }
  if (!opts.allowPrivate) {
    for (const a of addresses) {
      const reason = blockedReason(a.address);
      // The address itself stays out of the message (clients must not learn internal DNS answers).
      if (reason) throw new UrlNotAllowedError(href, `${host} resolves to a ${reason} address`, a.address);
    }
  }
  return addresses;
}

export function assertProtocol(url: URL, opts: UrlRuleOptions): void {
  const protocols = opts.protocols ?? ['https:'];
  if (!protocols.includes(url.protocol)) {
    throw new UrlNotAllowedError(url.href, `protocol ${url.protocol} (allowed: ${protocols.join(', ')})`);
  }
}

/** Throws UrlNotAllowedError / HostLookupError; returns the parsed URL and the checked addresses. */
export async function assertPublicUrl(input: string | URL, opts: UrlRuleOptions = {}): Promise<{ url: URL; addresses: LookupAddress[] }> {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new UrlNotAllowedError(String(input), 'not a valid URL');
  }
  assertProtocol(url, opts);
  if (url.username || url.password) throw new UrlNotAllowedError(url.href, 'credentials in the URL');
  const addresses = await checkedAddresses(bareHost(url), url.href, opts);
  return { url, addresses };
}

/** A `lookup` for http(s).request that applies the address rule to what it hands to connect(). */
export function safeLookup(href: string, opts: UrlRuleOptions): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    checkedAddresses(hostname, href, opts).then((addresses) => {
      const wanted = options?.family === 4 || options?.family === 6
        ? addresses.filter((a) => a.family === options.family) : addresses;
      const list = wanted.length > 0 ? wanted : addresses;
      if (options?.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    }, (err: unknown) => callback(err));
  }) as unknown as LookupFunction;
}
