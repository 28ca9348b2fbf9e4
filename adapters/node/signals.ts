/**
 * SIGINT/SIGTERM: stop once (etcd's osutil.HandleInterrupts): run the shutdown, then exit 0. A
 * second signal while stopping exits at once with 1.
 */
export function handleInterrupts(shutdown: (signal: string) => Promise<void>, exit: (code: number) => void = process.exit): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      exit(1);
      return;
    }
    stopping = true;
    shutdown(signal).then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
