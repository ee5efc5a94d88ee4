CREATE TABLE `stock_change` (
	`id` char(26) NOT NULL,
	`product_id` bigint unsigned NOT NULL,
	`sku` varchar(64) NOT NULL,
	`previous_stock` int unsigned NOT NULL,
	`new_stock` int unsigned NOT NULL,
	`actor` varchar(512) NOT NULL,
	`reason` varchar(500) NOT NULL,
	`changed_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `stock_change_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `stock_change` ADD CONSTRAINT `stock_change_product_id_product_id_fk` FOREIGN KEY (`product_id`) REFERENCES `product`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `stock_change_product_changed_idx` ON `stock_change` (`product_id`,`changed_at`);