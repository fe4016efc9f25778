// A throwaway PKI made by the real openssl CLI in a temp dir (node's
// crypto cannot issue X.509): a CA, a server cert for 127.0.0.1/localhost signed
// by it, and a client cert signed by it.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second, unrelated key (does not match serverCert). */
  otherKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.error)
    throw new Error(
      `openssl is needed by this test (apt-get install openssl; scripts/install-system-deps.sh does): ` +
        `${r.error.message}`,
    );
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export function makePki(dir: string): TestPki {
  const p = (n: string): string => join(dir, n);
  const key = (name: string): void =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name], dir);
  key('ca.key');
  openssl(
    ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=metricserver test CA', '-days', '2', '-out', 'ca.crt'],
    dir,
  );
  const issue = (name: string, cn: string, ext: string): void => {
    key(`${name}.key`);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
    writeFileSync(p(`${name}.ext`), ext);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  };
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  issue('client', 'prometheus', 'extendedKeyUsage=clientAuth\n');
  key('other.key');
  readFileSync(p('server.crt')); // fail here, not later, if issuing silently produced nothing
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherKey: p('other.key'),
  };
}

/** The e2e suites' name for it. */
export type Pki = TestPki;
