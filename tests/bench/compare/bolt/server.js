// The Bolt-js side of `make bench-compare`: Slack's own framework
// receiving the same signed app_mention callbacks over HTTP. Its listener
// only acknowledges (it stores nothing): the best Bolt can do.
// PORT=0 picks a free port; the chosen port is printed as "listening <port>".
const { App, HTTPReceiver, LogLevel } = require('@slack/bolt');

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  endpoints: '/slack/events',
});
const app = new App({
  receiver,
  // A single-workspace app whose identity is given, so Bolt never calls
  // auth.test (there is no Slack here): it authorizes from memory.
  token: 'xoxb-bench-not-used',
  botId: 'B0MARIABOT',
  botUserId: 'U0MARIABOT',
  tokenVerificationEnabled: false,
  logLevel: process.env.BOLT_LOG_LEVEL || LogLevel.ERROR,
});
app.event('app_mention', async () => {});

(async () => {
  const server = await app.start({ port: Number(process.env.PORT || 0), host: '127.0.0.1' });
  console.log(`listening ${server.address().port}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
