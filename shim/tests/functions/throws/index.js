exports.main = async (event) => {
  throw new Error('boom: ' + event.why);
};
