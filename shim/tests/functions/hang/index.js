// Blocks the event loop forever: only a kill can stop it.
exports.main = (event) => {
  if (event.quick) return { pid: process.pid };
  for (;;) {}
};
