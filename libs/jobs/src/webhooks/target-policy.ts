import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Which webhook targets may be reached (the operator's WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
export interface TargetPolicy {
  allowPrivate: boolean;
}

/** Ranges opened by `allowPrivate`; link-local (cloud metadata) and everything else not unicast stay shut. */
const PRIVATE_RANGES = new Set(['private', 'loopback', 'uniqueLocal', 'carrierGradeNat']);

/** Cloud metadata services outside the link-local range, refused whatever the policy says. */
const METADATA_ADDRESSES = new Set(['fd00:ec2::254', '100.100.100.200']);

/** The target is refused by the policy, or is not a usable URL. */
export class WebhookTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_FORBIDDEN';
}

/** Why an address is refused, or null when it may be reached. */
export function refusedAddress(address: string, policy: TargetPolicy): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const ip = ipaddr.process(address);
  if (METADATA_ADDRESSES.has(ip.toString())) return `${address} is a cloud metadata address`;
  const range = ip.range();
  if (range === 'unicast') return null;
  if (policy.allowPrivate && PRIVATE_RANGES.has(range)) return null;
  return `${address} is a ${range} address${PRIVATE_RANGES.has(range) ? ' (set WEBHOOKS_ALLOW_PRIVATE_TARGETS to allow it)' : ''}`;
}

/** Parses and bounds a webhook URL: http(s), a host, no credentials, no fragment. Throws WebhookTargetError. */
export function parseTargetUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('the url is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookTargetError('the url must use https or http');
  if (url.username || url.password) throw new WebhookTargetError('the url must not carry credentials');
  if (url.hash) throw new WebhookTargetError('the url must not have a fragment');
  if (!url.hostname) throw new WebhookTargetError('the url has no host');
  return url;
}

/** The host of a URL as DNS or an IP literal sees it (IPv6 literals lose their brackets). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((done, fail) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? fail(err) : done(addresses))),
  );
}

/**
 * Resolves the URL's host and checks every address it has (an attacker's name may resolve to one public
 * and one private address). Throws WebhookTargetError naming the refused address or the DNS failure.
 */
export async function assertTargetAllowed(url: URL, policy: TargetPolicy): Promise<string[]> {
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookupAll(host)).map((a) => a.address);
    } catch (e) {
      throw new WebhookTargetError(
        `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'DNS error'})`,
      );
    }
  }
  if (addresses.length === 0) throw new WebhookTargetError(`${host} has no addresses`);
  for (const a of addresses) {
    const why = refusedAddress(a, policy);
    if (why) throw new WebhookTargetError(`${host} is refused: ${why}`);
  }
  return addresses;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request: resolves like `dns.lookup` but fails the connection when any address of
 * the name is refused, so the socket can only reach an address that was checked (no DNS rebinding
 * between the check and the connect).
 */
export function guardedLookup(policy: TargetPolicy) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    lookupAll(hostname).then(
      (addresses) => {
        for (const a of addresses) {
          const why = refusedAddress(a.address, policy);
          if (why) {
            callback(
              Object.assign(new WebhookTargetError(`${hostname} is refused: ${why}`), { code: 'EFORBIDDEN' }),
              [],
            );
            return;
          }
        }
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), []);
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}
