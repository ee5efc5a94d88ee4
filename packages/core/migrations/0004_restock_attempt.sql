CREATE TABLE `restock_attempt` (
	`restock_id` char(26) NOT NULL,
	`attempt` int unsigned NOT NULL,
	`outcome` enum('sending','accepted','unknown','failed') NOT NULL DEFAULT 'sending',
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`answered_at` datetime(3),
	`error` varchar(1000),
	`credited_at` datetime(3),
	CONSTRAINT `restock_attempt_restock_id_attempt_pk` PRIMARY KEY(`restock_id`,`attempt`)
);
--> statement-breakpoint
ALTER TABLE `restock_attempt` ADD CONSTRAINT `restock_attempt_restock_id_restock_request_id_fk` FOREIGN KEY (`restock_id`) REFERENCES `restock_request`(`id`) ON DELETE no action ON UPDATE no action;