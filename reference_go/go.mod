module nsport/reference_go

go 1.27
