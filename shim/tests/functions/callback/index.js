exports.main = function (event, context, callback) {
  setTimeout(function () {
    if (event.fail) callback(new Error('callback failure'));
    else callback(null, { viaCallback: true, sum: event.a + event.b });
  }, 5);
};
