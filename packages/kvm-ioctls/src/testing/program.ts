/**
 * Hand-assembled guest code, kept readable: a program is a list of
 * instructions, each its machine code in hex and its assembly (AT&T syntax).
 */

/** One instruction: its bytes as hex (`'66 ba f8 03'`) and what it is (`'mov $0x3f8, %dx'`). */
export type Instruction = readonly [hex: string, asm: string];

/** The machine code of a program. */
export function program(instructions: readonly Instruction[]): Uint8Array {
  const bytes: number[] = [];
  for (const [hex] of instructions) {
    for (const byte of hex.trim().split(/\s+/)) {
      if (!/^[0-9a-f]{2}$/i.test(byte))
        throw new SyntaxError(`bad machine code byte ${JSON.stringify(byte)}`);
      bytes.push(Number.parseInt(byte, 16));
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * 64-bit user-mode code that writes `%al` to port 0x80 forever: one port-I/O
 * exit per iteration and nothing else, for measuring the exit path.
 */
export const OUT_LOOP: readonly Instruction[] = [
  ['e6 80', '1: out %al, $0x80'],
  ['eb fc', '   jmp 1b'],
];
