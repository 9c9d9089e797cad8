module github.com/mariahq/maria/schemas

go 1.26.0
