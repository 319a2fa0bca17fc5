"""Jobs someone waits on: what was asked of the queue, by whom, and how it ended.

Owns the job record (pending, running, done with a result, failed with an error) that the API's
status URL and the job pages read; the queue (qc_app.queue) runs the work itself.
"""
