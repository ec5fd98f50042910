// Every test file: let the event loop turn between tests. Vitest's worker reports each test to the main process
// over RPC and times out a call whose answer it has not read within 60 s ("[vitest-worker]: Timeout calling
// onTaskUpdate", an unhandled error that fails the run although every test passed). Synchronous tests leave the
// answers unread until the file ends, so a file of many CPU-bound tests (jit-blocks.test.ts: 65 s) tripped it. A
// setImmediate after each test lets the pending answers in (the poll phase runs before the check phase).
import { afterEach } from 'vitest';
import { setDefaultHotThreshold } from '../../engine/cpu/jit/block';

// Translated code is tested on small programs: blocks are built after 40 arrivals at their head, as before issue 13
// raised the default for real guests (jit/block.ts HOT_THRESHOLD; test/engine/cpu/jit-blocks.test.ts tests that).
setDefaultHotThreshold(40);

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
