exports.main = async (event) => {
  if (event.ok) return { pid: process.pid };
  process.exit(1);
};
