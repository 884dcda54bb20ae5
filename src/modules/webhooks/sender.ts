import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isPrivateAddress } from './domain.js';

export class TargetRefused extends Error {}

/**
 * Resolves the URL's host and refuses private/loopback targets unless allowed. Returns the
 * address to connect to, so the check and the connection use the same address (no DNS
 * rebinding between them).
 */
/** A DNS lookup that always answers the one address already checked (no second, unchecked answer). */
function pinnedLookup(target: { address: string; family: number }): net.LookupFunction {
  return (_host, options, callback) =>
    options.all ? callback(null, [{ address: target.address, family: target.family }]) : callback(null, target.address, target.family);
}

export async function resolveTarget(url: URL, allowPrivate: boolean): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await dns.lookup(host, { all: true, verbatim: true });
  if (addresses.length === 0) throw new TargetRefused(`${host} does not resolve`);
  if (!allowPrivate) {
    const refused = addresses.find((entry) => isPrivateAddress(entry.address));
    if (refused) throw new TargetRefused(`${host} resolves to a private or loopback address (${refused.address})`);
  }
  return addresses[0];
}

export interface SendResult {
  statusCode: number | null;
  error: string | null;
  ok: boolean;
}

const maxLoggedBodyBytes = 1024;

/** One POST, no redirects followed (a 3xx is a failure), bounded by `timeoutMs` end to end. */
export async function postWebhook(
  url: URL,
  target: { address: string; family: number },
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SendResult> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Folio-Webhooks/1' },
        // Connect to the address that was checked, never to a fresh DNS answer.
        lookup: pinnedLookup(target),
        agent: false,
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        let received = 0;
        let snippet = '';
        response.on('data', (chunk: Buffer) => {
          if (received < maxLoggedBodyBytes) snippet += chunk.toString('utf8', 0, Math.min(chunk.length, maxLoggedBodyBytes - received));
          received += chunk.length;
          if (received > 64 * 1024) response.destroy();
        });
        const done = () => {
          const ok = statusCode >= 200 && statusCode < 300;
          const error = ok ? null : statusCode >= 300 && statusCode < 400 ? `redirect ${statusCode} not followed` : `HTTP ${statusCode}${snippet ? `: ${snippet.slice(0, 200)}` : ''}`;
          finish({ statusCode, error, ok });
        };
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish({ statusCode: null, error: `timed out after ${timeoutMs} ms`, ok: false });
    }, timeoutMs);
    request.on('error', (error) => finish({ statusCode: null, error: error.message.slice(0, 300), ok: false }));
    request.end(body);
  });
}
