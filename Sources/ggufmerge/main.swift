print("ggufmerge")
