#!/usr/bin/env node
import { main } from './cli/main.js';

// `mlgate check | head` closes the pipe early: the rest of the report has nowhere
// to go, but the verdict still decides the exit code, so a closed pipe is not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
