import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  candidateVersion,
  debFileName,
  ensureHostPackages,
  fetchDeb,
  missingPackages,
  packagePolicies,
  parseAptPolicy,
  parseAptShow,
  resolveMetapackage,
  showPackages,
} from '../src/apt.js';
import { failure, useTempDir } from './helpers.js';

const tmp = useTempDir('guest-kit-apt-');

describe('parseAptPolicy', () => {
  it('reads installed and candidate versions per package', () => {
    const text = `busybox-static:
  Installed: 1:1.35.0-4+deb12u1+b1
  Candidate: 1:1.35.0-4+deb12u1+b1
  Version table:
 *** 1:1.35.0-4+deb12u1+b1 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
linux-source-6.1:
  Installed: (none)
  Candidate: 6.1.176-1
  Version table:
`;
    expect(parseAptPolicy(text)).toEqual(
      new Map([
        ['busybox-static', { installed: '1:1.35.0-4+deb12u1+b1', candidate: '1:1.35.0-4+deb12u1+b1' }],
        ['linux-source-6.1', { installed: undefined, candidate: '6.1.176-1' }],
      ]),
    );
  });
});

describe('parseAptShow', () => {
  it('reads one record per stanza and skips stanzas without a checksum', () => {
    const text = `Package: linux-image-amd64
Version: 6.1.176-1
Depends: linux-image-6.1.0-50-amd64 (= 6.1.176-1)
SHA256: ${'a'.repeat(64)}

Package: virtual
Version: 1

Package: linux-source-6.1
Version: 6.1.176-1
SHA256: ${'b'.repeat(64)}
`;
    expect(parseAptShow(text)).toEqual([
      {
        name: 'linux-image-amd64',
        version: '6.1.176-1',
        sha256: 'a'.repeat(64),
        depends: 'linux-image-6.1.0-50-amd64 (= 6.1.176-1)',
      },
      { name: 'linux-source-6.1', version: '6.1.176-1', sha256: 'b'.repeat(64), depends: '' },
    ]);
  });
});

describe('the package lists of this machine (local, no network)', () => {
  it('know linux-source-6.1 and the package behind linux-image-amd64', async () => {
    expect(await candidateVersion('linux-source-6.1')).toMatch(/^6\.1\.\d+/);
    const [meta] = await showPackages([
      { name: 'linux-image-amd64', version: await candidateVersion('linux-image-amd64') },
    ]);
    const image = await resolveMetapackage(meta!);
    expect(image.name).toMatch(/^linux-image-6\.1\.0-\d+-amd64$/);
    expect(image.sha256).toMatch(/^[0-9a-f]{64}$/);
    const policies = await packagePolicies(['e2fsprogs']);
    expect(policies.get('e2fsprogs')?.installed).toMatch(/^1\.\d+/);
  });

  it('PACKAGE_UNAVAILABLE for a package apt does not know, or a version it does not have', async () => {
    const error = await failure(candidateVersion('tsvmm-no-such-package'));
    expect(error.code).toBe('PACKAGE_UNAVAILABLE');
    expect(error.message).toContain('tsvmm-no-such-package has no installable version');
    const version = await failure(showPackages([{ name: 'linux-source-6.1', version: '0~tsvmm.none' }]));
    expect(version.code).toBe('PACKAGE_UNAVAILABLE');
    expect(version.message).toMatch(
      /^Debian package linux-source-6\.1=0~tsvmm\.none is not in the package lists/,
    );
  });

  it('PACKAGE_UNAVAILABLE for a metapackage without dependencies', async () => {
    const error = await failure(resolveMetapackage({ name: 'meta', version: '1', sha256: '', depends: '' }));
    expect(error.code).toBe('PACKAGE_UNAVAILABLE');
    expect(error.message).toBe('Debian package meta depends on no package ()');
  });
});

describe('ensureHostPackages', () => {
  it('does nothing when everything is installed', async () => {
    const lines: string[] = [];
    await ensureHostPackages(['dpkg', 'e2fsprogs'], { install: false, log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
    expect(await missingPackages(['dpkg', 'tsvmm-no-such-package'])).toEqual(['tsvmm-no-such-package']);
  });

  it('HOST_PACKAGES_MISSING, naming the apt-get command, when it may not install', async () => {
    const error = await failure(
      ensureHostPackages(['dpkg', 'tsvmm-no-such-package'], { install: false, log: () => {} }),
    );
    expect(error.code).toBe('HOST_PACKAGES_MISSING');
    expect(error.message).toContain('sudo apt-get install tsvmm-no-such-package');
  });
});

describe('fetchDeb', () => {
  it('names files as apt-get download does', () => {
    expect(debFileName('busybox-static', '1:1.35.0-4', 'amd64')).toBe(
      'busybox-static_1%3a1.35.0-4_amd64.deb',
    );
  });

  it('reuses a cached .deb whose checksum matches the package lists', async () => {
    const cache = join(tmp.path, 'cached');
    await rm(cache, { recursive: true, force: true });
    await mkdir(cache);
    await writeFile(join(cache, 'tsvmm-test_1.0_all.deb'), 'deb bytes');
    const sha256 = createHash('sha256').update('deb bytes').digest('hex');
    const path = await fetchDeb({ name: 'tsvmm-test', version: '1.0', sha256, depends: '' }, cache);
    expect(path).toBe(join(cache, 'tsvmm-test_1.0_all.deb'));
  });

  it('FETCH_FAILED with apt’s reason when the version cannot be fetched, leaving no partial file', async () => {
    const cache = join(tmp.path, 'missing');
    const record = { name: 'linux-source-6.1', version: '0~tsvmm.none', sha256: '0'.repeat(64), depends: '' };
    const error = await failure(fetchDeb(record, cache));
    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toMatch(
      /^could not fetch Debian package linux-source-6\.1=0~tsvmm\.none: E: .*not found/,
    );
    expect(error.message).not.toContain('\n');
    expect(await readdir(cache)).toEqual([]);
  });
});
