// The exit handler of examples/hello.ts, loaded in the vCPU's worker thread.
export function setup() {
  let text = '';
  return (exit) => {
    if (exit.kind === 'IoOut' && exit.port === 0x3f8) text += Buffer.from(exit.data).toString('latin1');
    else if (exit.kind === 'Hlt') return { stop: 'hlt', detail: text };
    else return { stop: 'unexpected', detail: exit.kind };
  };
}
