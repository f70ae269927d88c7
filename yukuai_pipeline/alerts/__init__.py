"""Alert texts and their delivery (webhook robot, e-mail) with the alerts table as the outbox."""
