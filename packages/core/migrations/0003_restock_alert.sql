CREATE TABLE `restock_alert` (
	`kind` enum('failed','overdue','stuck-pending','out-without-restock') NOT NULL,
	`subject` varchar(64) NOT NULL,
	`alerted_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `restock_alert_kind_subject_pk` PRIMARY KEY(`kind`,`subject`)
);
--> statement-breakpoint
ALTER TABLE `restock_request` DROP COLUMN `overdue_alerted_at`;