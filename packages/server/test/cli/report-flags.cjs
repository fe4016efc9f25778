// Preloaded by relaunch.test.ts: on exit, prints the pid and the flags this image runs with.
process.on('exit', () => process.stdout.write(`FLAGS ${process.pid} ${process.execArgv.join(' ')}\n`));
