// Waits long enough for the test to look the call up by the seqId its SDK requests would carry.
exports.main = async (event) => {
  await new Promise((r) => setTimeout(r, event.ms || 300));
  return { seq: process.env.TCB_SEQID };
};
