const cloud = require('wx-server-sdk-not-installed-here');
exports.main = async () => cloud.ok;
