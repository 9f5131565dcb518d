// A local Fulcio, Rekor and timestamp authority on loopback, built from
// @sigstore/mock's handlers (its own mocks intercept node:http with nock, which
// cannot reach a CLI running in a child process), and the TrustedRoot JSON
// that vouches for exactly their keys.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';

export interface SigstoreMock {
  url: string;
  /** TrustedRoot JSON for the mock's CA, CT log, Rekor and TSA keys. */
  trustedRoot: string;
  /** Requests seen, by path (`POST /api/v2/signingCert` …). */
  requests: string[];
  /** Answer the next `count` requests to `path` with `status` instead of the mock. */
  failNext(path: string, status: number, count: number): void;
  close(): Promise<void>;
}

const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const b64 = (b: ArrayBufferView | Buffer) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const der = (k: ReturnType<typeof ecKey>['publicKey']) => k.export({ type: 'spki', format: 'der' });

/**
 * Rekor stores a `dsse` entry as hashes and signatures, not as the proposed
 * envelope; the mock logs whatever it is sent, so send it what Rekor would
 * store (what verifiers compare the bundle with).
 */
function storedDsseEntry(body: string): string {
  const proposed = JSON.parse(body) as { kind?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } };
  const content = proposed.spec?.proposedContent;
  if (proposed.kind !== 'dsse' || !content) return body;
  const envelope = JSON.parse(content.envelope) as { payload: string; signatures: { sig: string }[] };
  const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
  return JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((s) => ({ signature: s.sig, verifier: content.verifiers[0] })),
    },
  });
}

export async function startSigstoreMock(): Promise<SigstoreMock> {
  const requests: string[] = [];
  const failures = new Map<string, { status: number; count: number }>();
  const routes = new Map<string, HandlerFn>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = (req.url ?? '').split('?')[0]!;
      requests.push(`${req.method} ${p}`);
      const fail = failures.get(p);
      if (fail && fail.count > 0) {
        fail.count--;
        res.writeHead(fail.status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: fail.status, message: 'mock failure' }));
        return;
      }
      const fn = req.method === 'POST' ? routes.get(p) : undefined;
      if (!fn) {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      fn(p === '/api/v1/log/entries' ? storedDsseEntry(body) : body).then(
        ({ statusCode, response, contentType }) => res.writeHead(statusCode, { 'Content-Type': contentType ?? 'text/plain' }).end(response),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const caKey = ecKey();
  const ctKey = ecKey();
  const tlogKey = ecKey();
  const tsaKey = ecKey();
  const ctlog = await initializeCTLog(ctKey);
  // Certificates start a minute back: Rekor's integrated time is whole seconds, and must not fall before notBefore.
  const ca = await initializeCA(caKey, ctlog, new Date(Date.now() - 60_000));
  const tlog = await initializeTLog(url, tlogKey);
  // Whole seconds: DER drops trailing zeros of the fraction (".5Z"), which @sigstore/core 4 does not parse ("invalid time").
  const tsa = await initializeTSA(tsaKey, new Date(Math.floor(Date.now() / 1000) * 1000));
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)]) routes.set(h.path, h.fn);

  const validFor = { start: '2020-01-01T00:00:00Z' };
  const trustedRoot = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(der(tlogKey.publicKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
        logId: { keyId: createHash('sha256').update(der(tlogKey.publicKey)).digest('base64') },
      },
    ],
    certificateAuthorities: [{ subject: { organization: 'sigstore.mock', commonName: 'sigstore' }, uri: url, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor }],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      { subject: { organization: 'sigstore.mock', commonName: 'tsa' }, uri: url, certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] }, validFor },
    ],
  });
  return {
    url,
    trustedRoot,
    requests,
    failNext: (p, status, count) => void failures.set(p, { status, count }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An unsigned JWT with the claims a GitHub Actions token carries (the mock Fulcio reads, never verifies, it). */
export function actionsToken(workflowRef: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iss: 'https://token.actions.githubusercontent.com', sub: workflowRef, aud: 'sigstore', iat: now, exp: now + 600, job_workflow_ref: workflowRef })}.c2ln`;
}
