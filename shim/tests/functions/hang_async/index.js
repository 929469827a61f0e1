exports.main = async () => new Promise(() => {});
