ALTER TABLE `idempotency_keys` ADD `owner` varchar(32) DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `idempotency_keys_owner_idx` ON `idempotency_keys` (`owner`,`created_at`);