package embed

var kernel = kernelGo

const kernelName = "go"
