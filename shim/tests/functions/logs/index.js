exports.main = async (event) => {
  console.log('hello from call ' + event.n);
  console.error('a warning from call ' + event.n);
  return { logged: true };
};
