"""The outbox: every change the platform must act on, written in the transaction of the change,
put in commit order by one sequencer, and delivered to each subscription as a signed webhook
(Standard Webhooks) by the queue workers; the same events are the pull feed."""
