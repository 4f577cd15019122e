print("This week is being written.")
