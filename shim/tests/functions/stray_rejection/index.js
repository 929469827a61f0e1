exports.main = async (event) => {
  if (event.ok) return { pid: process.pid };
  Promise.reject(new Error('nobody handles this'));
  return new Promise(() => {});
};
