import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuestKitError } from '../src/error.js';
import { PACKAGE_ROOT, RECIPE } from '../src/inputs.js';
import { assertKernelConfig, kernelConfigMismatches, parseKernelConfig } from '../src/kernel-config.js';

const fragment = `# comment
CONFIG_SMP=y
CONFIG_HZ=100
CONFIG_CMDLINE="a b"
# CONFIG_PCI is not set

  CONFIG_INDENTED=y
`;

describe('parseKernelConfig', () => {
  it('reads set and unset options and skips comments', () => {
    expect(parseKernelConfig(fragment)).toEqual([
      { name: 'CONFIG_SMP', value: 'y' },
      { name: 'CONFIG_HZ', value: '100' },
      { name: 'CONFIG_CMDLINE', value: '"a b"' },
      { name: 'CONFIG_PCI', value: 'n' },
      { name: 'CONFIG_INDENTED', value: 'y' },
    ]);
  });

  it('reads the kit fragment: every required option of the brief is asked for', async () => {
    const options = parseKernelConfig(await readFile(join(PACKAGE_ROOT, RECIPE.config), 'utf8'));
    const asked = new Map(options.map((o) => [o.name.slice('CONFIG_'.length), o.value]));
    for (const name of `64BIT SMP PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD BINFMT_ELF
      BINFMT_SCRIPT PROC_FS SYSFS DEVTMPFS DEVTMPFS_MOUNT TMPFS HYPERVISOR_GUEST PARAVIRT KVM_GUEST PVH
      X86_MPPARSE VIRTIO VIRTIO_MMIO VIRTIO_MMIO_CMDLINE_DEVICES VIRTIO_BLK EXT4_FS NET INET UNIX PACKET
      NETDEVICES VIRTIO_NET VSOCKETS VIRTIO_VSOCKETS HW_RANDOM_VIRTIO HZ_100 INIT_STACK_NONE PRINTK_TIME`.split(
      /\s+/,
    )) {
      expect(asked.get(name), name).toBe('y');
    }
    for (const name of `PTP_1588_CLOCK LEGACY_PTYS VT RTC_CLASS ACPI PCI IPV6 INPUT SERIO THERMAL CPU_IDLE PPS
      HW_RANDOM_INTEL HW_RANDOM_AMD HW_RANDOM_VIA X86_5LEVEL INIT_STACK_ALL_ZERO RD_XZ RD_ZSTD`.split(
      /\s+/,
    )) {
      expect(asked.get(name), name).toBe('n');
    }
  });
});

describe('kernelConfigMismatches', () => {
  it('reports options with another value, and absent options as n', () => {
    const dotConfig = 'CONFIG_SMP=y\nCONFIG_HZ=250\nCONFIG_CMDLINE="a b"\nCONFIG_PCI=y\n';
    expect(kernelConfigMismatches(fragment, dotConfig)).toEqual([
      { name: 'CONFIG_HZ', wanted: '100', actual: '250' },
      { name: 'CONFIG_PCI', wanted: 'n', actual: 'y' },
      { name: 'CONFIG_INDENTED', wanted: 'y', actual: 'n' },
    ]);
  });

  it('accepts an option that is unset or absent when the fragment turns it off', () => {
    expect(kernelConfigMismatches('# CONFIG_PCI is not set\n', '# CONFIG_PCI is not set\n')).toEqual([]);
    expect(kernelConfigMismatches('# CONFIG_PCI is not set\n', '')).toEqual([]);
  });
});

describe('assertKernelConfig', () => {
  it('throws CONFIG_MISMATCH naming every option the .config lacks', () => {
    let error: unknown;
    try {
      assertKernelConfig(
        'CONFIG_PVH=y\nCONFIG_SMP=y\n# CONFIG_PCI is not set\n',
        'CONFIG_SMP=y\nCONFIG_PCI=y\n',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuestKitError);
    expect((error as GuestKitError).code).toBe('CONFIG_MISMATCH');
    expect((error as GuestKitError).message).toContain('CONFIG_PVH=n (wanted y)');
    expect((error as GuestKitError).message).toContain('CONFIG_PCI=y (wanted n)');
    expect(() => assertKernelConfig('CONFIG_SMP=y\n', 'CONFIG_SMP=y\n')).not.toThrow();
  });
});
