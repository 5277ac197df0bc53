"""The Slack app: Bolt AsyncApp in front of the Slack-free drafting core (`bot.pipeline.Engine`)."""
