// `shared-dep` is not in this folder: the test puts it in a node_modules of an ancestor.
const dep = require('shared-dep');
exports.main = async () => ({ dep: dep.name });
