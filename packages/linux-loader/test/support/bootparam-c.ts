/**
 * The kernel's own definition of the zero page, <asm/bootparam.h>, compiled
 * with gcc: it reports the layout (offsetof/sizeof) and decodes zero pages
 * and image headers, so the loader is checked against the C structures and
 * not against a second copy of its own offsets.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scratchDir } from './images.js';

const HEADER_FIELDS = [
  'setup_sects',
  'root_flags',
  'syssize',
  'ram_size',
  'vid_mode',
  'root_dev',
  'boot_flag',
  'jump',
  'header',
  'version',
  'realmode_swtch',
  'start_sys_seg',
  'kernel_version',
  'type_of_loader',
  'loadflags',
  'setup_move_size',
  'code32_start',
  'ramdisk_image',
  'ramdisk_size',
  'bootsect_kludge',
  'heap_end_ptr',
  'ext_loader_ver',
  'ext_loader_type',
  'cmd_line_ptr',
  'initrd_addr_max',
  'kernel_alignment',
  'relocatable_kernel',
  'min_alignment',
  'xloadflags',
  'cmdline_size',
  'hardware_subarch',
  'hardware_subarch_data',
  'payload_offset',
  'payload_length',
  'setup_data',
  'pref_address',
  'init_size',
  'handover_offset',
  'kernel_info_offset',
] as const;
const PARAM_FIELDS = [
  'acpi_rsdp_addr',
  'ext_ramdisk_image',
  'ext_ramdisk_size',
  'ext_cmd_line_ptr',
  'e820_entries',
  'sentinel',
] as const;

type HeaderField = (typeof HEADER_FIELDS)[number];
type ParamField = (typeof PARAM_FIELDS)[number];

const source = `
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <asm/bootparam.h>
#define U(x) (unsigned long long)(x)
int main(int argc, char **argv) {
  if (strcmp(argv[1], "layout") == 0) {
    printf("{\\"sizeof_boot_params\\":%zu,\\"sizeof_setup_header\\":%zu,\\"sizeof_boot_e820_entry\\":%zu,\\"e820_max\\":%d,\\"offsets\\":{",
      sizeof(struct boot_params), sizeof(struct setup_header), sizeof(struct boot_e820_entry), E820_MAX_ENTRIES_ZEROPAGE);
${HEADER_FIELDS.map((f) => `    printf("\\"hdr.${f}\\":%zu,", offsetof(struct boot_params, hdr.${f}));`).join('\n')}
${PARAM_FIELDS.map((f) => `    printf("\\"${f}\\":%zu,", offsetof(struct boot_params, ${f}));`).join('\n')}
    printf("\\"hdr\\":%zu,\\"e820_table\\":%zu}}\\n", offsetof(struct boot_params, hdr), offsetof(struct boot_params, e820_table));
    return 0;
  }
  static struct boot_params bp;
  FILE *f = fopen(argv[2], "rb");
  size_t n = fread(&bp, 1, sizeof bp, f);
  fclose(f);
  if (n < 0x290) return 2;
  printf("{\\"hdr\\":{");
${HEADER_FIELDS.map((f) => `  printf("\\"${f}\\":\\"%llu\\",", U(bp.hdr.${f}));`).join('\n')}
  printf("\\"end\\":\\"0\\"},");
${PARAM_FIELDS.map((f) => `  printf("\\"${f}\\":\\"%llu\\",", U(bp.${f}));`).join('\n')}
  printf("\\"e820_table\\":[");
  for (int i = 0; i < E820_MAX_ENTRIES_ZEROPAGE; i++)
    printf("%s[\\"%llu\\",\\"%llu\\",\\"%u\\"]", i ? "," : "", U(bp.e820_table[i].addr), U(bp.e820_table[i].size), bp.e820_table[i].type);
  printf("]}\\n");
  return 0;
}
`;

let binary: string | undefined;

function compiled(): string {
  if (binary === undefined) {
    const dir = scratchDir();
    writeFileSync(join(dir, 'bootparam.c'), source);
    binary = join(dir, 'bootparam');
    execFileSync('gcc', ['-O0', '-o', binary, join(dir, 'bootparam.c')]);
  }
  return binary;
}

export interface CLayout {
  sizeof_boot_params: number;
  sizeof_setup_header: number;
  sizeof_boot_e820_entry: number;
  e820_max: number;
  offsets: Record<string, number>;
}

/** sizeof/offsetof from <asm/bootparam.h>. */
export function bootParamsLayout(): CLayout {
  return JSON.parse(execFileSync(compiled(), ['layout'], { encoding: 'utf8' })) as CLayout;
}

export interface DecodedBootParams {
  hdr: Record<HeaderField, bigint>;
  fields: Record<ParamField, bigint>;
  e820: Array<{ addr: bigint; size: bigint; type: number }>;
}

/** Decodes a zero page, or the first 0x290+ bytes of a bzImage, through `struct boot_params`. */
export function decodeBootParams(bytes: Uint8Array): DecodedBootParams {
  const path = join(dirname(compiled()), 'page.bin');
  writeFileSync(path, bytes);
  const raw = JSON.parse(execFileSync(compiled(), ['decode', path], { encoding: 'utf8' })) as {
    hdr: Record<string, string>;
    e820_table: Array<[string, string, string]>;
  } & Record<string, string>;
  const hdr = Object.fromEntries(HEADER_FIELDS.map((f) => [f, BigInt(raw.hdr[f]!)])) as Record<
    HeaderField,
    bigint
  >;
  const fields = Object.fromEntries(PARAM_FIELDS.map((f) => [f, BigInt(raw[f]!)])) as Record<
    ParamField,
    bigint
  >;
  return {
    hdr,
    fields,
    e820: raw.e820_table.map(([a, s, t]) => ({ addr: BigInt(a), size: BigInt(s), type: Number(t) })),
  };
}

export { HEADER_FIELDS };
