exports.main = async () => { return 1 +; };
