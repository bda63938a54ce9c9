"""Pearl River: the cross-border partner whose XML API reports times in Asia/Shanghai local time."""
