exports.main = async (event) => {
  if (event.ok) return { pid: process.pid };
  setTimeout(() => {
    throw new Error('thrown from a timer');
  }, 1);
  return new Promise(() => {});
};
