-- Back-in-stock subscriptions kept by us (docs/design.md#back-in-stock): one row per address and
-- product asked for, the address erased when the subscription ends; and the abuse limits' record
-- per address (the last confirmation mail, for the cool-down).
CREATE TABLE `subscription_address` (
	`email` varchar(254) NOT NULL,
	`confirmation_mailed_at` datetime(3),
	CONSTRAINT `subscription_address_email` PRIMARY KEY(`email`)
);
--> statement-breakpoint
CREATE TABLE `subscription` (
	`id` char(26) NOT NULL,
	`product_id` bigint unsigned NOT NULL,
	`email` varchar(254),
	`status` enum('pending','confirmed','notified','unsubscribed','expired') NOT NULL DEFAULT 'pending',
	`requested_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`confirmed_at` datetime(3),
	`ended_at` datetime(3),
	`open_email` varchar(254) GENERATED ALWAYS AS ((CASE WHEN `status` IN ('pending', 'confirmed') THEN `email` ELSE NULL END)) STORED,
	CONSTRAINT `subscription_id` PRIMARY KEY(`id`),
	CONSTRAINT `subscription_one_open_per_address_and_product` UNIQUE(`open_email`,`product_id`),
	CONSTRAINT `subscription_address_only_while_open` CHECK((`status` IN ('pending', 'confirmed') AND `email` IS NOT NULL AND `ended_at` IS NULL) OR (`status` IN ('notified', 'unsubscribed', 'expired') AND `email` IS NULL AND `ended_at` IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE `subscription` ADD CONSTRAINT `subscription_product_id_product_id_fk` FOREIGN KEY (`product_id`) REFERENCES `product`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `subscription_address_mailed_idx` ON `subscription_address` (`confirmation_mailed_at`);--> statement-breakpoint
CREATE INDEX `subscription_product_status_id_idx` ON `subscription` (`product_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `subscription_status_requested_idx` ON `subscription` (`status`,`requested_at`);--> statement-breakpoint
CREATE INDEX `subscription_ended_idx` ON `subscription` (`ended_at`);