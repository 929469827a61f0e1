exports.main = async (event) => {
  await new Promise((r) => setTimeout(r, event.ms || 300));
  return { pid: process.pid };
};
