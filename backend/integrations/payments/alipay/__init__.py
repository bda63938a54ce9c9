"""Alipay (open platform, RSA2): PC web checkout by signed redirect, trade query, refunds, async notifies."""
