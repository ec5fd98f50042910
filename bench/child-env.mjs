// The environment the benches start `ringside` in: this one, less NODE_EXTRA_CA_CERTS unless BENCH_KEEP_ENV=1.
// Node reads and parses that file of CA certificates at start-up, before any of Ringside's code runs, whether or not
// the process ever opens a TLS connection (Ringside never does): with Debian's bundle of about 140 certificates that
// is 45–50 ms of every `ringside run` on the machines these benches ran on, which set it for their package proxies,
// where a user's shell usually has no such variable (issue 13, docs/speed-history.md "Where `ringside run`'s start-up
// goes"). QEMU does not read it.

/** The environment for a child `ringside`, and a note saying what was left out (empty when nothing was). */
export function ringsideEnv() {
  const env = { ...process.env };
  if (process.env.BENCH_KEEP_ENV === '1' || env.NODE_EXTRA_CA_CERTS === undefined) return { env, note: '' };
  delete env.NODE_EXTRA_CA_CERTS;
  return { env, note: 'ringside runs without NODE_EXTRA_CA_CERTS (node parses that file at start-up; BENCH_KEEP_ENV=1 keeps it)' };
}
