exports.main = async (event) => {
  throw new Error('failed ' + event.why);
};
